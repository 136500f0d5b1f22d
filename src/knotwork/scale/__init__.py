"""Beyond one machine: the batch graph jobs on Apache Spark over a Parquet export of a view.

:mod:`knotwork.scale.parquet` writes a view's nodes and decayed links as partitioned Parquet;
:mod:`knotwork.scale.spark` runs PageRank, personalized PageRank for batches of seed sets,
connected components and label propagation on it with PySpark DataFrames, giving the same
answers as the local engine (:mod:`knotwork.graph.rank`, :mod:`knotwork.graph.propagation`).
"""
