"""The one default of every statistical setting of stress runs and analyses.

Kept free of heavy imports so that command-line option defaults can cite them
without loading numpy or pandas. ``stress run``, ``stress analyze``, the report
and the Python API all use these, so the same interval comes out everywhere.
"""

#: Cluster-bootstrap replicates behind every pairwise and stack interval.
DEFAULT_N_BOOTSTRAP = 2000
#: Seed of item sampling and of the bootstrap.
DEFAULT_SEED = 0
#: Two-sided level of every interval (one-sided for zero-count bounds).
DEFAULT_CONFIDENCE = 0.95
#: Operating point of scored layers in the default experiment: at most 5 % of the
#: benign calibration prompts blocked.
DEFAULT_TARGET_FALSE_BLOCK_RATE = 0.05
