"""Look inside a model: activation shapes, learned λ and κ, distributions of layer inputs."""
