"""The dataset: fetch the Spotify and YouTube table (Kaggle, URL or path), validate it, write it as
parquet.
"""
