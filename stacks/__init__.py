"""CDK stacks of Style Backend, one package per concern."""
