"""miner: keep an evidence table of circulating bone-metastasis biomarkers up to date from PubMed."""

__version__ = "0.1.0"
