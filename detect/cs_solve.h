/* cs_solve.h - DCT dictionary and sparse solvers used by the cs detector (and its tests). */
#ifndef OSD_CS_SOLVE_H
#define OSD_CS_SOLVE_H

#include <stddef.h>

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

/* Scratch for one group solve; sized for windows up to L, groups up to g dims, kmax atoms. */
struct cs_ws {
    size_t L, g, kmax;
    double *A;      /* m x L sensing rows */
    double *norm;   /* column norms of A */
    double *R;      /* m x g residual */
    double *P;      /* g x L correlations */
    double *C;      /* kmax x g coefficients */
    size_t *S;      /* chosen atoms */
    unsigned char *used;
    gsl_matrix *gram;
    gsl_vector *rhs, *sol;
    double *ycol, *s, *s_prev, *v, *tmp; /* FISTA */
};

/* Orthonormal DCT-II synthesis matrix: x[t] = sum_k psi[t*L+k] s[k]. */
void cs_dct_basis(double *psi, size_t L);
/* Allocate scratch; the first call turns GSL's abort-on-error handler off (process-wide,
 * once): solver failures come back as return codes. */
int cs_ws_init(struct cs_ws *w, size_t L, size_t g, size_t kmax);
void cs_ws_free(struct cs_ws *w);
/*
 * Simultaneous OMP: Y (m x g, row-major) sampled at rows idx[m] of a length-L signal;
 * picks up to kmax of the K lowest-frequency DCT atoms, shared by the g columns, and
 * stops when the RMS residual is below tol. *k_out = atoms used. 0, -EINVAL, or
 * -EDOM (singular least squares).
 */
int cs_somp(struct cs_ws *w, const double *psi, size_t L, size_t K, const size_t *idx,
            size_t m, const double *Y, size_t g, size_t kmax, double tol, size_t *k_out);
/* X (L x g) = the full-length signal from the last cs_somp() solution. */
void cs_somp_reconstruct(const struct cs_ws *w, const double *psi, size_t L, size_t g, size_t k,
                         double *X);
/* LASSO by FISTA per column, lambda = lambda_rel * ||A^T y||_inf; writes X (L x g). */
int cs_fista(struct cs_ws *w, const double *psi, size_t L, const size_t *idx, size_t m,
             const double *Y, size_t g, double lambda_rel, size_t iters, double *X);

#endif
