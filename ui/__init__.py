"""The page's drawing code: widgets and figures. Computation lives in classroom/ and cnn/."""
