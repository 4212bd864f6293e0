"""The convnet behind the page: model, MNIST data, training, preprocessing, feature maps and convolution maths.

Plain Python: nothing here imports streamlit, a database or classroom/ (tests/test_layout.py checks it).
"""
