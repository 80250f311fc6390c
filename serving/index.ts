// The serving part's public surface: OpenLoRA: the base model, LoRA adapters, batched multi-adapter inference and training (issue #4).
// Nothing is exported yet; other parts import this part only through this file once it exists.
export {};
