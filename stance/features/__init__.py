"""Text features computed at inference (part of the runtime core): the Danish sentiment lexicon
the baseline and explanations read."""
