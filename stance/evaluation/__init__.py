"""Build-time evaluation: metrics, the test split and leave-one-document-out cross-validation,
reference rows, calibration, reports and model cards. The runtime core never imports it."""
