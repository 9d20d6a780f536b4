DROP TABLE search_counts;
DROP TRIGGER post_search_forget;
DROP TABLE post_search;
