"""The PyTorch reference of the Annotated U-Net, shared by the reference scripts: the module
Tests/DiffusionTests/Fixtures/make_unet_fixture.py (the model the tests compare ours with,
parameter for parameter), loaded by path so the scripts need no package layout."""
import importlib.util
import os

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_unet_fixture", os.path.join(_here, "..", "..", "Tests", "DiffusionTests", "Fixtures", "make_unet_fixture.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)
