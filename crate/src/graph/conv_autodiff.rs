//! The convolution the executor runs natively, as a burn backend extension, so that a
//! backend can run it, and differentiate it, with its own kernels: the CPU does
//! (`crate::cpu::conv_gemm`). burn computes a convolution's weight gradient as a convolution
//! whose kernel is the whole output gradient, and its input gradient as a transposed
//! convolution; for the small networks this project trains, that made a CPU training step
//! several times slower than PyTorch's. [`TrainableConv`] is the forward pass and
//! [`ConvGradients`] the backward pass; both default to burn's, which the GPU keeps.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use crate::graph::ops::conv_options;

/// The gradients of a convolution's input, weight and bias: each `None` where not wanted.
pub type Grads<B> = [Option<FloatTensor<B>>; 3];

/// A convolution's input, weight and bias, as its backward pass gets them.
pub struct Operands<B: Backend> {
    pub x: FloatTensor<B>,
    pub weight: FloatTensor<B>,
    pub bias: FloatTensor<B>,
}

/// A backend's backward pass of the convolution of [`conv_options`].
pub trait ConvGradients: Backend {
    /// The gradients of `x`, `weight` and the bias (those `want` names) from the output's
    /// gradient `grad`. The default is burn's.
    fn conv2d_grads(operands: Operands<Self>, grad: FloatTensor<Self>, padding: [usize; 2], want: [bool; 3]) -> Grads<Self> {
        burn_grads::<Self>(operands, grad, padding, want)
    }
}

/// burn's backward pass of the convolution, for backends without their own.
pub fn burn_grads<B: Backend>(Operands { x, weight, bias }: Operands<B>, grad: FloatTensor<B>, padding: [usize; 2], want: [bool; 3]) -> Grads<B> {
    let gx = want[0].then(|| B::conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), conv_options(padding)));
    let gw = want[1].then(|| B::conv2d_weight_backward(x.clone(), weight, grad.clone(), conv_options(padding)));
    let gb = want[2].then(|| B::conv2d_bias_backward(x, bias, grad));
    [gx, gw, gb]
}

/// The convolution as an operation the backend dispatches: its forward pass (the default is
/// burn's) and, under autodiff, [`ConvGradients`]' backward pass.
#[backend_extension(Flex, Cube, Autodiff)]
pub trait TrainableConv: Backend {
    fn conv2d_trainable(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>, padding: [usize; 2]) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), conv_options(padding))
    }
}

impl ConvGradients for burn::backend::Cube {}
impl TrainableConv for burn::backend::Cube {}

impl<B: TrainableConv + ConvGradients, C: CheckpointStrategy> TrainableConv for Autodiff<B, C> {
    fn conv2d_trainable(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>, padding: [usize; 2]) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ConvBackward;

        impl<B: ConvGradients> Backward<B, 3> for ConvBackward {
            type State = (NodeId, NodeId, NodeId, [usize; 2]);

            fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, bias, padding) = ops.state;
                let mut retrieve = |id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id);
                let operands = Operands { x: retrieve(x), weight: retrieve(weight), bias: retrieve(bias) };
                let want = [0, 1, 2].map(|i| ops.parents[i].is_some());
                let computed = B::conv2d_grads(operands, grad, padding, want);
                for (parent, gradient) in ops.parents.into_iter().zip(computed) {
                    if let (Some(node), Some(gradient)) = (parent, gradient) {
                        grads.register::<B>(node.id, gradient);
                    }
                }
            }
        }

        match ConvBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight), prep.checkpoint(&bias), padding);
                prep.finish(state, B::conv2d_trainable(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), padding))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_trainable(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), padding)),
        }
    }
}

/// `conv2d` of [`conv_options`]`(padding)` with a bias, on any device, differentiable with the
/// backend's own backward pass.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>, padding: [usize; 2]) -> Tensor<4> {
    Tensor::from_dispatch(Dispatch::conv2d_trainable(x.into_dispatch(), weight.into_dispatch(), bias.into_dispatch(), padding))
}
