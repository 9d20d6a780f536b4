DROP TABLE search_counts;
DROP TABLE post_search;
