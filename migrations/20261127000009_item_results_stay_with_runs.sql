-- An automatic item's results were copied from its run's rows into golive_items.results, so a
-- run over many namespaces wrote every result twice (and every read of a review's items, the
-- boards included, carried them). The item now names its run (run_id), and its results are that
-- run's rows for the item's check; verification_results are history and never change, so
-- nothing is lost. Sign-off still freezes the results into golive_reviews.frozen.
ALTER TABLE golive_items DROP COLUMN results;
