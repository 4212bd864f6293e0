"""The classroom's server-side features: the drawings store, collected drawings, the personal fine-tune and the live
queue. Built on cnn/, which never imports this package.
"""
