-- Edit limits count a member's edits of the last minute and day by the versions they stored.
CREATE INDEX post_revisions_editor_replaced ON post_revisions (editor_id, replaced_at);
