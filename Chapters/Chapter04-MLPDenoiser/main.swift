print("Chapter04-MLPDenoiser: under construction")
