"""Data miner ships: the default PubMed query, lexicons, reference table and Datasette metadata."""
