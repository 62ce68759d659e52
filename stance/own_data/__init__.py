"""Your own data, as a user works with it: read a labelled file (:mod:`.labelled`), evaluate a
model on it (:mod:`.evaluate`), adapt a model to it (:mod:`.adapt`), and pick the texts worth
labelling next (:mod:`.suggest`).

These are user features and live with the runtime. Only the parts that truly train or score
(scikit-learn fits, metrics, reports) import the build-time packages, inside the functions that
need them.
"""
