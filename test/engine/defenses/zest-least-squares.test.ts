import { describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskySolve,
  gram,
  leastSquares,
  matmul,
  pinvSymmetric,
  symmetricEigen,
} from '../../../src-main/engine/defenses/least-squares';
import { createRng } from '../../../src-main/engine/rng';

const f64 = (a: number[]) => Float64Array.from(a);

describe('least squares W = pinv(M^T M) M^T Y', () => {
  it('recovers W exactly from a consistent system', () => {
    const m = f64([1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1]); // 5 x 3
    const w = f64([2, -1, 0.5, 3, -4, 0.25]); // 3 x 2
    const y = matmul(m, 5, 3, w, 2);
    const res = leastSquares(m, 5, 3, y, 2);
    expect(res.method).toBe('cholesky');
    res.w.forEach((v, i) => expect(v).toBeCloseTo(w[i], 12));
  });

  it('matches hand-computed solutions of inconsistent systems', () => {
    // one column of ones: the mean
    expect(leastSquares(f64([1, 1, 1]), 3, 1, f64([1, 2, 6]), 1).w[0]).toBeCloseTo(3, 12);
    // M = [[1,0],[0,1],[1,1]], y = [1,2,4]: M^T M = [[2,1],[1,2]], M^T y = [5,6] -> [4/3, 7/3]
    const w = leastSquares(f64([1, 0, 0, 1, 1, 1]), 3, 2, f64([1, 2, 4]), 1).w;
    expect(w[0]).toBeCloseTo(4 / 3, 12);
    expect(w[1]).toBeCloseTo(7 / 3, 12);
  });

  it('falls back to the pseudo-inverse (minimum-norm solution) when M^T M is singular', () => {
    // two identical columns: w1 + w2 = 2 has many solutions, the minimum-norm one is [1, 1]
    const res = leastSquares(f64([1, 1, 1, 1, 0, 0]), 3, 2, f64([2, 2, 0]), 1);
    expect(res.method).toBe('pinv');
    expect(res.w[0]).toBeCloseTo(1, 10);
    expect(res.w[1]).toBeCloseTo(1, 10);
  });

  it('has consistent building blocks: Cholesky, Jacobi eigen and pinv', () => {
    const rng = createRng(3);
    const n = 6;
    const a = Float64Array.from({ length: 10 * n }, () => rng.next() - 0.5);
    const g = gram(a, 10, n);
    // Cholesky solve
    const b = Float64Array.from({ length: n }, () => rng.next());
    const x = choleskySolve(cholesky(g, n)!, n, b, 1);
    matmul(g, n, n, x, 1).forEach((v, i) => expect(v).toBeCloseTo(b[i], 10));
    // eigen: A V = V diag(values)
    const { values, vectors } = symmetricEigen(g, n);
    const av = matmul(g, n, n, vectors, n);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) expect(av[i * n + k]).toBeCloseTo(vectors[i * n + k] * values[k], 10);
    // pinv of a non-singular matrix is its inverse
    const inv = pinvSymmetric(g, n);
    const id = matmul(g, n, n, inv, n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) expect(id[i * n + k]).toBeCloseTo(i === k ? 1 : 0, 9);
    // a singular (rank-deficient) Gram matrix has no Cholesky factor
    expect(cholesky(f64([1, 1, 1, 1]), 2)).toBeUndefined();
  });

  it('rejects mismatched shapes', () => {
    expect(() => leastSquares(f64([1, 2, 3]), 2, 2, f64([1, 2]), 1)).toThrow(RangeError);
  });
});
