// The one door to tfjs for the whole project: every file that computes with tensors imports `tf` from
// here. Importing the umbrella package (once) registers the gradient functions of every op and the cpu
// backend; tfjs-core alone has no gradients in its Node bundle, and its ESM build cannot be loaded by Node.
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Rank } from '@tensorflow/tfjs-core';
