/* ROC AUC and average precision against values worked out by hand (ties
 * included), the perfect and the reversed score, and the errors. No device. */
#include <math.h>

#include "clae/roc.h"
#include "helpers.h"

static void check(const double *score, const bool *pos, size_t n, double auc, double ap)
{
    clae_roc r;
    clae_err err;
    assert_int_equal(clae_roc_compute(score, pos, n, &r, &err), 0);
    if (fabs(r.auc - auc) > 1e-12 || fabs(r.ap - ap) > 1e-12)
        fail_msg("AUC %.15g (expected %.15g), AP %.15g (expected %.15g)", r.auc, auc, r.ap, ap);
    assert_true(r.fpr[0] == 0 && r.tpr[0] == 0);
    assert_true(r.fpr[r.n_points - 1] == 1 && r.tpr[r.n_points - 1] == 1);
    clae_roc_free(&r);
}

static void test_by_hand(void **state)
{
    (void)state;
    /* scores 0.9+ 0.8- 0.7+ 0.6- (no ties): of the 4 pairs (pos, neg) 3 are ordered right:
     * AUC 3/4; AP = 1/2 * 1 (the first positive at precision 1) + 1/2 * 2/3 = 5/6 */
    check((double[]){0.9, 0.8, 0.7, 0.6}, (bool[]){1, 0, 1, 0}, 4, 0.75, 5.0 / 6.0);
    /* a tie of a positive and a negative counts half: scores 0.5+ 0.5- 0.1-: pairs (p, n1)
     * tie = 0.5, (p, n2) right = 1 -> AUC 1.5 / 2; the tied threshold holds 1 of 2 -> AP 1/2 */
    check((double[]){0.5, 0.5, 0.1}, (bool[]){1, 0, 0}, 3, 0.75, 0.5);
    /* scikit-learn's roc_auc_score([0,0,1,1,1], [0.1,0.4,0.35,0.8,0.8]) = 5/6, and
     * average_precision_score on them = 2/3 * 1 + 1/3 * 3/4 = 0.91666... */
    check((double[]){0.1, 0.4, 0.35, 0.8, 0.8}, (bool[]){0, 0, 1, 1, 1}, 5, 5.0 / 6.0,
          2.0 / 3.0 + 0.25);
    /* perfect and reversed scores */
    check((double[]){3, 2, 1, 0}, (bool[]){1, 1, 0, 0}, 4, 1.0, 1.0);
    check((double[]){0, 1, 2, 3}, (bool[]){1, 1, 0, 0}, 4, 0.0, 0.5 * 0.25 / 0.75 + 0.5 * 0.5);
    /* all tied: AUC 1/2, AP the positive fraction */
    check((double[]){1, 1, 1, 1, 1}, (bool[]){1, 0, 0, 0, 1}, 5, 0.5, 0.4);
}

static void test_errors(void **state)
{
    (void)state;
    clae_roc r;
    clae_err err;
    assert_int_equal(clae_roc_compute((double[]){1, 2}, (bool[]){1, 1}, 2, &r, &err), -1);
    assert_non_null(strstr(err.msg, "2 positives and 0 negatives: both are needed"));
    assert_int_equal(clae_roc_compute((double[]){1, NAN}, (bool[]){1, 0}, 2, &r, &err), -1);
    assert_non_null(strstr(err.msg, "score 1 is NaN"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("roc", tests, NULL, NULL);
}
