"""Build-time training: fitting each backend, hyperparameter search, the authored-text ablation
and MLM pretraining. The scripts in the repository's ``training/`` folder are thin wrappers over
these modules. The runtime core never imports this package."""
