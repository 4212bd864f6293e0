"""The convnet behind the page: model, MNIST data, training, preprocessing, feature maps and convolution maths.

Plain Python: nothing here imports streamlit.
"""
