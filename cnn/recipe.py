"""Facts of the training recipes that more than the training script reads: Keras' Adam epsilon, the optimiser's name."""

from __future__ import annotations

ADAM_EPS = 1e-7  # Keras' Adam epsilon (PyTorch's default is 1e-8): every Adam in the project uses it


def optimizer_name(hyperparameters: dict) -> str:
    """The optimiser a recipe's hyperparameters (as its metadata records them) select, named as
    cnn.train.make_optimizer builds it."""
    decay = hyperparameters.get("weight_decay") or 0
    if hyperparameters.get("optimizer") == "sgd":
        return "SGD, Nesterov momentum 0.9" + (f", weight decay {decay:g}" if decay else "")
    return f"AdamW (decoupled weight decay {decay:g})" if decay else "Adam"
