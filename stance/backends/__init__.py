"""Classifier backends behind one interface: the numpy baseline and fine-tuned BERT."""
