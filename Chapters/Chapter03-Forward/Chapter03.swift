print("Chapter03-Forward: under construction")
