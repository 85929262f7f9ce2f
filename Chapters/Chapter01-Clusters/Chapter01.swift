print("Chapter01-Clusters: under construction")
