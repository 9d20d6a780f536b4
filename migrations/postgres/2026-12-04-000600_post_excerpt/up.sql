-- A one-line plain-text excerpt of a thread's opening post, for the group page's thread rows.
-- Made from the markdown at write time (hearth_markdown::plain_text_excerpt), so a listing
-- never cuts HTML. NULL for replies and for opening posts written before this column: those
-- are filled in batches when the server starts (maintenance::rerender::fill_excerpts).
ALTER TABLE posts ADD COLUMN excerpt TEXT;
