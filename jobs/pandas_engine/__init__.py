"""The Pandas engine: Bronze -> Silver -> Gold with pandas on pyarrow-backed frames."""
