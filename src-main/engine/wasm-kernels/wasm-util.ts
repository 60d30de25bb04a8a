// Shared plumbing for the wasm training kernels.
//
// Why: the replacement kernels are built by composing the wasm backend's own fast kernels
// (XNNPACK Conv2D, fully-connected BatchMatMul, C++ Transpose) on TensorInfos, without going
// through the engine (no tape, no tensor bookkeeping). This module keeps the handful of
// helpers they all need in one place: calling a stock kernel by name, freeing intermediates,
// reinterpreting a buffer with another shape, and reading/writing Float32 views of the heap.
//
// How: stock kernel functions are captured once (before any of ours replace them) so that a
// replacement can still delegate to the original, e.g. our BatchMatMul calls the stock one
// after making both operands non-transposed. Heap views must be taken AFTER every allocation
// of the kernel, because growing the wasm memory detaches earlier views.
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type { BackendWasm };

/** Arguments every kernel function receives from the engine. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: object;
  attrs?: NamedAttrMap;
}

const stockKernels = new Map<string, KernelFunc>();
const ownKernels = new WeakSet<KernelFunc>();

/** Marks a kernel function as one of ours so it is never captured as the "stock" kernel. */
export function markOwn(f: KernelFunc): KernelFunc {
  ownKernels.add(f);
  return f;
}

export function isOwn(f: KernelFunc): boolean {
  return ownKernels.has(f);
}

/** Remembers the wasm backend's current kernel for `name`, unless it is one of ours. */
export function captureStock(name: string): void {
  if (stockKernels.has(name)) return;
  const cfg = tf.getKernel(name, 'wasm');
  if (cfg !== undefined && !ownKernels.has(cfg.kernelFunc)) stockKernels.set(name, cfg.kernelFunc);
}

/** The wasm backend's own implementation of `name` (the stock one if we replaced it). */
export function stockKernel(name: string): KernelFunc {
  const captured = stockKernels.get(name);
  if (captured !== undefined) return captured;
  const cfg = tf.getKernel(name, 'wasm');
  if (cfg === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  return cfg.kernelFunc;
}

/** Runs the stock wasm kernel `name` directly on TensorInfos; the result is owned by the caller. */
export function runKernel(
  backend: BackendWasm,
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const out = stockKernel(name)({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return out;
}

/** Releases intermediates produced by runKernel / makeOutput. */
export function free(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * The same buffer seen with another (same-size) shape. Not reference counted: use it only as
 * an input to a kernel call and never dispose it.
 */
export function view(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** A Float32Array over the tensor's bytes on the wasm heap (invalidated by any allocation). */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  const arr = backend.typedArrayFromHeap(info);
  if (!(arr instanceof Float32Array)) throw new Error(`expected a float32 tensor, got ${info.dtype}`);
  return arr;
}

export function asBackend(args: KernelArgs): BackendWasm {
  return args.backend as BackendWasm;
}

export function input(args: KernelArgs, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`missing kernel input ${name}`);
  return t;
}

export function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A tensor over a sub-range of another tensor's heap buffer (no copy), e.g. one row-chunk of a
 * larger buffer to use as a kernel input. Release it with releaseAlias (never free/disposeData:
 * that would free an interior pointer). The parent must outlive the alias.
 */
export function aliasOf(backend: BackendWasm, parent: TensorInfo, elemOffset: number, shape: number[]): TensorInfo {
  const bytes = parent.dtype === 'float32' || parent.dtype === 'int32' ? 4 : 1;
  const base = backend.getMemoryOffset(parent.dataId);
  return backend.makeOutput(shape, parent.dtype, base + elemOffset * bytes);
}

/** Unregisters an alias made by aliasOf without freeing the parent's memory. */
export function releaseAlias(backend: BackendWasm, alias: TensorInfo): void {
  const data = backend.dataIdMap.get(alias.dataId);
  if (data === undefined) return;
  // Drops the C++ registration (and any XNNPACK operator cached on this id).
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(alias.dataId);
}

/** The backend's WebAssembly.Memory (what simd-module.ts imports), or null if not exported. */
export function heapMemory(backend: BackendWasm): WebAssembly.Memory | null {
  // The single-threaded build exports its memory; the threaded build creates a shared one in
  // JavaScript and keeps it as `wasmMemory`.
  const module = backend.wasm as unknown as { asm?: { memory?: unknown }; wasmMemory?: unknown };
  const memory = module.asm?.memory ?? module.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** Byte offset of a tensor's data on the heap. */
export function heapOffset(backend: BackendWasm, info: TensorInfo): number {
  return backend.getMemoryOffset(info.dataId);
}
