"""costmodel: features, the neural cost model, training data and training."""
