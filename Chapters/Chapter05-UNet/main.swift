print("Chapter05-UNet: under construction")
