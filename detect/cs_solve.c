/* cs_solve.c - DCT dictionary and sparse solvers (simultaneous OMP, FISTA) for the cs detector. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>

#include "cs_solve.h"

static pthread_once_t gsl_quiet_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
    /* GSL's default handler aborts on a singular matrix; we retry instead */
    gsl_set_error_handler_off();
}

void cs_dct_basis(double *psi, size_t L)
{
    double c0 = sqrt(1.0 / L), ck = sqrt(2.0 / L);

    for (size_t t = 0; t < L; t++)
        for (size_t k = 0; k < L; k++)
            psi[t * L + k] = (k ? ck : c0) * cos(M_PI * (t + 0.5) * k / L);
}

int cs_ws_init(struct cs_ws *w, size_t L, size_t g, size_t kmax)
{
    pthread_once(&gsl_quiet_once, gsl_quiet);
    memset(w, 0, sizeof(*w));
    w->L = L;
    w->g = g;
    w->kmax = kmax;
    w->A = malloc(L * L * sizeof(double));
    w->norm = malloc(L * sizeof(double));
    w->R = malloc(L * g * sizeof(double));
    w->P = malloc(L * g * sizeof(double));
    w->C = malloc(kmax * g * sizeof(double));
    w->S = malloc(kmax * sizeof(size_t));
    w->used = malloc(L);
    w->gram = gsl_matrix_alloc(kmax, kmax);
    w->rhs = gsl_vector_alloc(kmax);
    w->sol = gsl_vector_alloc(kmax);
    w->ycol = malloc(L * sizeof(double));
    w->s = malloc(L * sizeof(double));
    w->s_prev = malloc(L * sizeof(double));
    w->v = malloc(L * sizeof(double));
    w->tmp = malloc(L * sizeof(double));
    if (!w->A || !w->norm || !w->R || !w->P || !w->C || !w->S || !w->used || !w->gram ||
        !w->rhs || !w->sol || !w->ycol || !w->s || !w->s_prev || !w->v || !w->tmp) {
        cs_ws_free(w);
        return -ENOMEM;
    }
    return 0;
}

void cs_ws_free(struct cs_ws *w)
{
    free(w->A);
    free(w->norm);
    free(w->R);
    free(w->P);
    free(w->C);
    free(w->S);
    free(w->used);
    if (w->gram)
        gsl_matrix_free(w->gram);
    if (w->rhs)
        gsl_vector_free(w->rhs);
    if (w->sol)
        gsl_vector_free(w->sol);
    free(w->ycol);
    free(w->s);
    free(w->s_prev);
    free(w->v);
    free(w->tmp);
    memset(w, 0, sizeof(*w));
}

/* A = psi[idx, :], the sensing matrix of the sampled rows, and its column norms. */
static void build_sensing(struct cs_ws *w, const double *psi, size_t L, const size_t *idx, size_t m)
{
    for (size_t i = 0; i < m; i++)
        memcpy(w->A + i * L, psi + idx[i] * L, L * sizeof(double));
    for (size_t j = 0; j < L; j++)
        w->norm[j] = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < L; j++)
            w->norm[j] += w->A[i * L + j] * w->A[i * L + j];
    for (size_t j = 0; j < L; j++)
        w->norm[j] = sqrt(w->norm[j]);
}

/* Least squares on the chosen atoms for every column of Y (m x g); fills C and R. */
static int omp_lsq(struct cs_ws *w, size_t L, const double *Y, size_t m, size_t g, size_t k)
{
    gsl_matrix_view G = gsl_matrix_submatrix(w->gram, 0, 0, k, k);
    gsl_vector_view b = gsl_vector_subvector(w->rhs, 0, k);
    gsl_vector_view x = gsl_vector_subvector(w->sol, 0, k);
    int status;

    for (size_t a = 0; a < k; a++) {
        for (size_t c = 0; c <= a; c++) {
            double acc = 0;

            for (size_t i = 0; i < m; i++)
                acc += w->A[i * L + w->S[a]] * w->A[i * L + w->S[c]];
            gsl_matrix_set(&G.matrix, a, c, acc);
            gsl_matrix_set(&G.matrix, c, a, acc);
        }
    }
    status = gsl_linalg_cholesky_decomp1(&G.matrix);
    if (status)
        return -EDOM;
    for (size_t d = 0; d < g; d++) {
        for (size_t a = 0; a < k; a++) {
            double acc = 0;

            for (size_t i = 0; i < m; i++)
                acc += w->A[i * L + w->S[a]] * Y[i * g + d];
            gsl_vector_set(&b.vector, a, acc);
        }
        status = gsl_linalg_cholesky_solve(&G.matrix, &b.vector, &x.vector);
        if (status)
            return -EDOM;
        for (size_t a = 0; a < k; a++)
            w->C[a * g + d] = gsl_vector_get(&x.vector, a);
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t d = 0; d < g; d++) {
            double acc = Y[i * g + d];

            for (size_t a = 0; a < k; a++)
                acc -= w->A[i * L + w->S[a]] * w->C[a * g + d];
            w->R[i * g + d] = acc;
        }
    }
    return 0;
}

int cs_somp(struct cs_ws *w, const double *psi, size_t L, size_t K, const size_t *idx,
            size_t m, const double *Y, size_t g, size_t kmax, double tol, size_t *k_out)
{
    double res2;
    size_t k = 0;
    int err;

    if (kmax > w->kmax || kmax > m || g > w->g || L > w->L || K > L || K == 0)
        return -EINVAL;
    build_sensing(w, psi, L, idx, m);
    memcpy(w->R, Y, m * g * sizeof(double));
    memset(w->used, 0, L);
    res2 = 0;
    for (size_t i = 0; i < m * g; i++)
        res2 += Y[i] * Y[i];
    while (k < kmax && res2 > tol * tol * (double)(m * g)) {
        size_t best = L;
        double best_c = 0;

        /* P = A^T R, laid out g x L so the inner loop runs along a row of A */
        memset(w->P, 0, L * g * sizeof(double)); /* only the first K of each row are used */
        for (size_t i = 0; i < m; i++) {
            const double *a = w->A + i * L;

            for (size_t d = 0; d < g; d++) {
                double r = w->R[i * g + d];
                double *p = w->P + d * L;

                for (size_t j = 0; j < K; j++)
                    p[j] += r * a[j];
            }
        }
        for (size_t j = 0; j < K; j++) {
            double c = 0;

            if (w->used[j] || w->norm[j] < 1e-9)
                continue;
            for (size_t d = 0; d < g; d++)
                c += fabs(w->P[d * L + j]);
            c /= w->norm[j];
            if (c > best_c) {
                best_c = c;
                best = j;
            }
        }
        if (best == L)
            break; /* no usable atom left */
        w->used[best] = 1;
        w->S[k++] = best;
        err = omp_lsq(w, L, Y, m, g, k);
        if (err)
            return err;
        res2 = 0;
        for (size_t i = 0; i < m * g; i++)
            res2 += w->R[i] * w->R[i];
    }
    *k_out = k;
    return 0;
}

void cs_somp_reconstruct(const struct cs_ws *w, const double *psi, size_t L, size_t g, size_t k,
                         double *X)
{
    for (size_t t = 0; t < L; t++) {
        for (size_t d = 0; d < g; d++) {
            double acc = 0;

            for (size_t a = 0; a < k; a++)
                acc += psi[t * L + w->S[a]] * w->C[a * g + d];
            X[t * g + d] = acc;
        }
    }
}

static double soft(double v, double th)
{
    return v > th ? v - th : (v < -th ? v + th : 0.0);
}

int cs_fista(struct cs_ws *w, const double *psi, size_t L, const size_t *idx, size_t m,
             const double *Y, size_t g, double lambda_rel, size_t iters, double *X)
{
    double lip = 0;

    if (g > w->g || L > w->L || m == 0)
        return -EINVAL;
    build_sensing(w, psi, L, idx, m);
    /* Lipschitz constant ||A||^2 by power iteration */
    for (size_t j = 0; j < L; j++)
        w->v[j] = 1.0 / sqrt((double)L);
    for (int it = 0; it < 30; it++) {
        double nrm = 0;

        for (size_t i = 0; i < m; i++) {
            double acc = 0;

            for (size_t j = 0; j < L; j++)
                acc += w->A[i * L + j] * w->v[j];
            w->tmp[i] = acc;
        }
        for (size_t j = 0; j < L; j++)
            w->s[j] = 0;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < L; j++)
                w->s[j] += w->A[i * L + j] * w->tmp[i];
        for (size_t j = 0; j < L; j++)
            nrm += w->s[j] * w->s[j];
        nrm = sqrt(nrm);
        if (nrm < 1e-300)
            break;
        lip = nrm;
        for (size_t j = 0; j < L; j++)
            w->v[j] = w->s[j] / nrm;
    }
    if (!(lip > 0))
        lip = 1;
    for (size_t d = 0; d < g; d++) {
        double tk = 1, lambda, amax = 0;

        for (size_t i = 0; i < m; i++)
            w->ycol[i] = Y[i * g + d];
        /* lambda relative to ||A^T y||_inf, the value above which s = 0 */
        for (size_t j = 0; j < L; j++) {
            double acc = 0;

            for (size_t i = 0; i < m; i++)
                acc += w->A[i * L + j] * w->ycol[i];
            amax = fmax(amax, fabs(acc));
        }
        lambda = lambda_rel * amax;
        memset(w->s, 0, L * sizeof(double));
        memset(w->v, 0, L * sizeof(double));
        for (size_t it = 0; it < iters; it++) {
            double tn;

            /* gradient step at v: v - A^T (A v - y) / lip */
            for (size_t i = 0; i < m; i++) {
                double acc = -w->ycol[i];

                for (size_t j = 0; j < L; j++)
                    acc += w->A[i * L + j] * w->v[j];
                w->tmp[i] = acc;
            }
            memcpy(w->s_prev, w->s, L * sizeof(double));
            for (size_t j = 0; j < L; j++) {
                double gr = 0;

                for (size_t i = 0; i < m; i++)
                    gr += w->A[i * L + j] * w->tmp[i];
                w->s[j] = soft(w->v[j] - gr / lip, lambda / lip);
            }
            tn = 0.5 * (1 + sqrt(1 + 4 * tk * tk));
            for (size_t j = 0; j < L; j++)
                w->v[j] = w->s[j] + (tk - 1) / tn * (w->s[j] - w->s_prev[j]);
            tk = tn;
        }
        for (size_t t = 0; t < L; t++) {
            double acc = 0;

            for (size_t j = 0; j < L; j++)
                acc += psi[t * L + j] * w->s[j];
            X[t * g + d] = acc;
        }
    }
    return 0;
}
