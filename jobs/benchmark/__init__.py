"""The benchmark: both deployed engines timed end to end on the same drops, verified equal, results in the lake."""
