/**
 * Small dense linear algebra in Float64 for ZEST's local linear models: W = pinv(M^T M) M^T Y,
 * as the ZEST code computes it (`torch.pinverse(data.T @ data) @ data.T @ label`).
 *
 * Matrices are row-major Float64Arrays. M^T M is symmetric positive semi-definite; when it is
 * positive definite (the normal case: random binary masks with far more rows than segments)
 * the system is solved by Cholesky, which equals the pseudo-inverse solution. When Cholesky
 * meets a non-positive pivot the Gram matrix is (numerically) singular, and the
 * pseudo-inverse is formed from a Jacobi eigendecomposition, eigenvalues below
 * 16 n eps lambda_max treated as zero (a small multiple of numpy's matrix_rank tolerance;
 * torch.pinverse's rcond 1e-15 would keep rounding noise as huge inverse eigenvalues), which
 * gives the minimum-norm least-squares solution, as pinv does.
 */

/** G = A^T A for A (rows x cols). */
export function gram(a: Float64Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let i = 0; i < cols; i++) {
      const ai = a[o + i];
      if (ai === 0) continue;
      const gi = i * cols;
      for (let j = i; j < cols; j++) g[gi + j] += ai * a[o + j];
    }
  }
  for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) g[i * cols + j] = g[j * cols + i];
  return g;
}

/** A^T B for A (rows x cols) and B (rows x k): cols x k. */
export function transposeTimes(a: Float64Array, rows: number, cols: number, b: Float64Array, k: number): Float64Array {
  const out = new Float64Array(cols * k);
  for (let r = 0; r < rows; r++) {
    const ao = r * cols;
    const bo = r * k;
    for (let i = 0; i < cols; i++) {
      const ai = a[ao + i];
      if (ai === 0) continue;
      const oo = i * k;
      for (let j = 0; j < k; j++) out[oo + j] += ai * b[bo + j];
    }
  }
  return out;
}

/**
 * Cholesky factor L (lower, row-major) of a symmetric n x n matrix, or undefined when a pivot
 * is not positive (relative to the largest diagonal entry): the matrix is not (numerically)
 * positive definite.
 */
export function cholesky(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * n + i]));
  const tol = n * Number.EPSILON * maxDiag;
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > tol)) return undefined;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Solves (L L^T) X = B for X (n x k), L from cholesky(). */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, k: number): Float64Array {
  const x = Float64Array.from(b);
  for (let col = 0; col < k; col++) {
    // forward: L y = b
    for (let i = 0; i < n; i++) {
      let s = x[i * k + col];
      for (let j = 0; j < i; j++) s -= l[i * n + j] * x[j * k + col];
      x[i * k + col] = s / l[i * n + i];
    }
    // backward: L^T x = y
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * k + col];
      for (let j = i + 1; j < n; j++) s -= l[j * n + i] * x[j * k + col];
      x[i * k + col] = s / l[i * n + i];
    }
  }
  return x;
}

/**
 * Eigendecomposition of a symmetric n x n matrix by cyclic Jacobi rotations:
 * A = V diag(values) V^T, V's columns the eigenvectors (row-major n x n).
 */
export function symmetricEigen(
  a: Float64Array,
  n: number,
  maxSweeps = 100,
): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const s = m[i * n + j] * m[i * n + j];
        total += s;
        if (i !== j) off += s;
      }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i];
  return { values, vectors: v };
}

/** Moore-Penrose pseudo-inverse of a symmetric positive semi-definite n x n matrix. */
export function pinvSymmetric(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  let maxAbs = 0;
  for (const x of values) maxAbs = Math.max(maxAbs, Math.abs(x));
  const tol = n * Number.EPSILON * maxAbs * 16;
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    if (Math.abs(values[k]) <= tol) continue;
    const inv = 1 / values[k];
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k] * inv;
      if (vik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += vik * vectors[j * n + k];
    }
  }
  return out;
}

/** C = A B for A (n x m), B (m x k). */
export function matmul(a: Float64Array, n: number, m: number, b: Float64Array, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const aij = a[i * m + j];
      if (aij === 0) continue;
      for (let c = 0; c < k; c++) out[i * k + c] += aij * b[j * k + c];
    }
  return out;
}

export interface LeastSquaresResult {
  /** cols x k, row-major. */
  w: Float64Array;
  /** 'cholesky' when M^T M was positive definite, 'pinv' when the pseudo-inverse was needed. */
  method: 'cholesky' | 'pinv';
}

/**
 * W = pinv(M^T M) M^T Y for a design matrix M (rows x cols) and targets Y (rows x k): the
 * least-squares (minimum-norm where not unique) solution of M W = Y.
 */
export function leastSquares(
  m: Float64Array,
  rows: number,
  cols: number,
  y: Float64Array,
  k: number,
): LeastSquaresResult {
  if (m.length !== rows * cols)
    throw new RangeError(`leastSquares: M holds ${m.length} values, ${rows}x${cols} needs ${rows * cols}`);
  if (y.length !== rows * k)
    throw new RangeError(`leastSquares: Y holds ${y.length} values, ${rows}x${k} needs ${rows * k}`);
  const g = gram(m, rows, cols);
  const b = transposeTimes(m, rows, cols, y, k);
  const l = cholesky(g, cols);
  if (l) return { w: choleskySolve(l, cols, b, k), method: 'cholesky' };
  return { w: matmul(pinvSymmetric(g, cols), cols, cols, b, k), method: 'pinv' };
}
