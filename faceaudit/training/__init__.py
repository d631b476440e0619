"""Stage 3: training. TensorFlow set-up, the tf.data inputs, checkpoints and resume, the classifier loop and its
fine-tuning strategies, loss weights, the VAE run and the sine-wave comparison."""
