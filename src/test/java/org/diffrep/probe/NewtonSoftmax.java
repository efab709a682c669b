package org.diffrep.probe;

/**
 * An independent reference for the softmax objective: Newton's method in plain Java doubles with the
 * exact Hessian, a tiny ridge on the bias (whose common shift the loss cannot see) and backtracking.
 */
final class NewtonSoftmax {

    private NewtonSoftmax() {
    }

    static double[] probabilities(double[] x, int n, int c, int k, double[] p) {
        double[] prob = new double[n * k];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            double[] z = new double[k];
            for (int j = 0; j < k; j++) {
                z[j] = p[c * k + j];
                for (int a = 0; a < c; a++) {
                    z[j] += x[i * c + a] * p[a * k + j];
                }
                max = Math.max(max, z[j]);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += Math.exp(z[j] - max);
            }
            for (int j = 0; j < k; j++) {
                prob[i * k + j] = Math.exp(z[j] - max) / sum;
            }
        }
        return prob;
    }

    static double value(double[] x, long[] y, int n, int c, int k, double l2, double[] p) {
        double[] prob = probabilities(x, n, c, k, p);
        double f = 0;
        for (int i = 0; i < n; i++) {
            f -= Math.log(prob[i * k + (int) y[i]]);
        }
        f /= n;
        for (int i = 0; i < c * k; i++) {
            f += 0.5 * l2 * p[i] * p[i];
        }
        return f;
    }

    static double[] solve(double[] x, long[] y, int n, int c, int k, double l2) {
        int m = (c + 1) * k;
        double[] p = new double[m];
        for (int iter = 0; iter < 100; iter++) {
            double[] prob = probabilities(x, n, c, k, p);
            double[] g = new double[m];
            double[][] h = new double[m][m];
            for (int i = 0; i < n; i++) {
                double[] xi = new double[c + 1];
                System.arraycopy(x, i * c, xi, 0, c);
                xi[c] = 1;
                for (int j = 0; j < k; j++) {
                    double r = prob[i * k + j] - (y[i] == j ? 1 : 0);
                    for (int a = 0; a <= c; a++) {
                        g[a * k + j] += xi[a] * r / n;
                    }
                    for (int j2 = 0; j2 < k; j2++) {
                        double w = prob[i * k + j] * ((j == j2 ? 1 : 0) - prob[i * k + j2]) / n;
                        for (int a = 0; a <= c; a++) {
                            for (int b = 0; b <= c; b++) {
                                h[a * k + j][b * k + j2] += w * xi[a] * xi[b];
                            }
                        }
                    }
                }
            }
            for (int i = 0; i < c * k; i++) {
                g[i] += l2 * p[i];
                h[i][i] += l2;
            }
            for (int i = c * k; i < m; i++) {
                h[i][i] += 1e-12;
            }
            double gmax = 0;
            for (double v : g) {
                gmax = Math.max(gmax, Math.abs(v));
            }
            if (gmax < 1e-13) {
                break;
            }
            double[] step = gauss(h, g);
            double f0 = value(x, y, n, c, k, l2, p);
            double t = 1;
            double[] next = new double[m];
            for (int tries = 0; tries < 50; tries++) {
                for (int i = 0; i < m; i++) {
                    next[i] = p[i] - t * step[i];
                }
                if (value(x, y, n, c, k, l2, next) <= f0) {
                    break;
                }
                t /= 2;
            }
            p = next.clone();
        }
        return p;
    }

    /** Solves h s = g by Gaussian elimination with partial pivoting. */
    private static double[] gauss(double[][] h, double[] g) {
        int m = g.length;
        double[][] a = new double[m][m + 1];
        for (int i = 0; i < m; i++) {
            System.arraycopy(h[i], 0, a[i], 0, m);
            a[i][m] = g[i];
        }
        for (int col = 0; col < m; col++) {
            int piv = col;
            for (int r = col + 1; r < m; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
                    piv = r;
                }
            }
            double[] tmp = a[col];
            a[col] = a[piv];
            a[piv] = tmp;
            for (int r = col + 1; r < m; r++) {
                double f = a[r][col] / a[col][col];
                for (int cc = col; cc <= m; cc++) {
                    a[r][cc] -= f * a[col][cc];
                }
            }
        }
        double[] s = new double[m];
        for (int r = m - 1; r >= 0; r--) {
            double v = a[r][m];
            for (int cc = r + 1; cc < m; cc++) {
                v -= a[r][cc] * s[cc];
            }
            s[r] = v / a[r][r];
        }
        return s;
    }
}
