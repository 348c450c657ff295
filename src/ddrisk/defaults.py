"""The one default of every statistical setting in ddrisk.

The Python API, the command line and the report all take their defaults from here, so the same
question gets the same interval whichever way it is asked. The module imports nothing, so click
option defaults can cite it without loading numpy.
"""

#: Seed of every random choice: sampled '?' resolutions, bootstraps, Monte Carlo, the sampler.
SEED = 0
#: Two-sided level of every interval (one-sided for zero-count bounds).
CONFIDENCE = 0.95
#: Bootstrap replicates behind every resampled interval (stress, attacks, rater agreement).
BOOTSTRAP_REPLICATES = 2000
#: Monte Carlo draws that propagate parameter or rater uncertainty into P(stack fails).
UNCERTAINTY_DRAWS = 2000
#: Importance-sampler draws for P(stack fails) where the exact engine is out of budget.
SAMPLER_DRAWS = 20_000
