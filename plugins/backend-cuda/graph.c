/* CUDA graphs by stream capture: between graph_begin and graph_end the ops
 * enqueue into a graph instead of running; the instantiated graph replays
 * them with one launch, on the same device addresses. Capture is
 * thread-local, so other threads (other instances) keep working. See
 * docs/cuda.md for what a caller must guarantee. */
#include "cuda_backend.h"

vla_status cuda_graph_begin(void *state) {
    cuda_state *st = state;
    const char *op = "graph_begin";
    if (st->capturing) return vla_error(VLA_ERR_BACKEND, "CUDA backend: %s: a capture is already in progress", op);
    VLA_TRY(cuda_enter(st, op));
    /* errors from before the capture must not be blamed on captured work */
    CUDA_TRY(op, "an earlier asynchronous error", cudaGetLastError());
    CUDA_TRY(op, "cudaStreamBeginCapture", cudaStreamBeginCapture(st->stream, cudaStreamCaptureModeThreadLocal));
    st->capturing = 1;
    return VLA_OK;
}

vla_status cuda_graph_end(void *state, void **graph) {
    cuda_state *st = state;
    const char *op = "graph_end";
    *graph = NULL;
    if (!st->capturing) return vla_error(VLA_ERR_BACKEND, "CUDA backend: %s: no capture in progress", op);
    VLA_TRY(cuda_enter(st, op));
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(st->stream, &g);
    st->capturing = 0;
    if (e != cudaSuccess) {
        if (g) cudaGraphDestroy(g);
        return cuda_fail(e, op, "cudaStreamEndCapture (an op failed during capture, or one was not capturable)");
    }
    cudaGraphExec_t exec = NULL;
    e = cudaGraphInstantiate(&exec, g, 0);
    cudaGraphDestroy(g);
    if (e != cudaSuccess) return cuda_fail(e, op, "cudaGraphInstantiate");
    st->n_graphs++;
    *graph = exec;
    return VLA_OK;
}

vla_status cuda_graph_launch(void *state, void *graph) {
    cuda_state *st = state;
    const char *op = "graph_launch";
    if (!graph) return vla_error(VLA_ERR_INVALID_ARG, "CUDA backend: %s: no graph", op);
    if (st->capturing) return vla_error(VLA_ERR_BACKEND, "CUDA backend: %s: not allowed during graph capture", op);
    VLA_TRY(cuda_enter(st, op));
    CUDA_TRY(op, "cudaGraphLaunch", cudaGraphLaunch((cudaGraphExec_t)graph, st->stream));
    return VLA_OK;
}

void cuda_graph_destroy(void *state, void *graph) {
    cuda_state *st = state;
    if (!graph) return;
    cudaSetDevice(st->device);
    /* a replay may still be running; the executable must outlive it */
    cudaStreamSynchronize(st->stream);
    cudaGraphExecDestroy((cudaGraphExec_t)graph);
    cudaGetLastError();
    st->n_graphs--;
}
