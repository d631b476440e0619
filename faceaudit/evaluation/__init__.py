"""Stage 4: evaluation. Predictions of a trained run, metrics, the fairness audit with bootstrap intervals, figures."""
