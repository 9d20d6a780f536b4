DROP INDEX review_items_reporter;
