"""Classifier backends behind one interface: the scikit-learn baseline and fine-tuned BERT."""
