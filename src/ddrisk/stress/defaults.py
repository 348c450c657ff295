"""The statistical defaults of stress runs and analyses, under their stress names.

The values are ``ddrisk.defaults``'s, shared with the risk engine, raters and audits.

Kept free of heavy imports so that command-line option defaults can cite them
without loading numpy or pandas. ``stress run``, ``stress analyze``, the report
and the Python API all use these, so the same interval comes out everywhere.
"""

from ddrisk import defaults

#: Cluster-bootstrap replicates behind every pairwise and stack interval.
DEFAULT_N_BOOTSTRAP = defaults.BOOTSTRAP_REPLICATES
#: Seed of item sampling and of the bootstrap.
DEFAULT_SEED = defaults.SEED
#: Two-sided level of every interval (one-sided for zero-count bounds).
DEFAULT_CONFIDENCE = defaults.CONFIDENCE
#: Operating point of scored layers in the default experiment: at most 5 % of the
#: benign calibration prompts blocked.
DEFAULT_TARGET_FALSE_BLOCK_RATE = 0.05
