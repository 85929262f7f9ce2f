import TinyTensor
