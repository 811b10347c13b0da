"""The Spark engine: the same Bronze/Silver/Gold as the Pandas engine, computed with Spark 4.0.1 DataFrames."""
