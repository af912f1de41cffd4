"""Instant feedback for students, and per-student numbers for graded assignments.

A student calls these in a cell and reads a sentence. The checks look for the
*common mistakes* and name the idea behind each one. What they say about a value
in which they recognise none depends on the course's :func:`feedback_policy`:
under ``confirm`` (the default) a ✔ means the value is right and anything else
gets ✘ "not yet" with what to check next; under ``mistakes-only`` no value is
ever confirmed (the hidden tests grade it when the work is submitted), so trying
values one after another reveals nothing:

>>> from rfmaps import Conv2d
>>> check_output_size(Conv2d(3, 8, 5, padding=1), 32, 28)
✘ 28 is not it: you left out the padding: padding puts 1 zero pixel on each side, so the padded input is 2 pixels taller and wider.
False

Answers may come in any natural form: ints, whole floats, numpy scalars,
tuples, lists or numpy arrays. A wrong type gets a sentence, not a traceback.
The checks take every layer kind of the package (residual blocks, transposed
convolutions, upsampling, pools...) and judge sizes, channels and holes with the
package's own answers (``output_size``, ``channels_after``, ``reach_back``); an
argument they cannot use (a list where one layer belongs, a target typed as
text) gets one ✘ sentence that names it. When several common mistakes give the
same value, the check names each of them.

Whose numbers: :func:`student` resolves the id the same way in the student's
visible checks and in the hidden tests (see its docstring).

Pure Python: the arithmetic of :mod:`rfmaps.arithmetic.receptive_field`, no arrays.

The package, one module per job (each imports only those above it in this list):

* :mod:`~rfmaps.check.feedback`: the feedback policy and the ✔/✘ verdicts;
* :mod:`~rfmaps.check.answers`: reading answers and arguments in any natural form;
* :mod:`~rfmaps.check.ids`: whose numbers (typed id, hub login, the submission nbgrader grades);
* :mod:`~rfmaps.check.variants`: each student's numbers, drawn at the first call, never at import;
* :mod:`~rfmaps.check.sizes`: output sizes of every layer kind, numbers of feature maps;
* :mod:`~rfmaps.check.fields`: rf sizes, a neuron's region, a pixel's projective field;
* :mod:`~rfmaps.check.design`: designed stacks and decoders, numbers of parameters;
* :mod:`~rfmaps.check.choices`: multiple choice with a reason;
* :mod:`~rfmaps.check.byhand`: the no-package rule of the function questions: the code read, and every
  call watched (``sys.setprofile``) so that no container or wrapper hides the package;
* :mod:`~rfmaps.check.feature_map`: ps1's one feature map written as a function;
* :mod:`~rfmaps.check.formulas`: formulas students write as Python functions, graded on many inputs
  against PyTorch (or brute force), written without the package.
"""

from .feedback import FEEDBACK_POLICIES, feedback_policy
from .ids import graded_student, hub_user, student
from .variants import (DECODER_CHANNELS, DECODER_INPUT, PF_INPUT, RF_INPUT, growing_variant, variant,
                       variant_growing_stack, variant_layer, variant_stack, variant_transposed)
from .sizes import check_feature_maps, check_output_size, check_transposed_size
from .fields import check_projective_field, check_region, check_rf_sizes
from .design import check_decoder, check_design, check_parameter_count, count_parameters
from .choices import check_choice, choice_letters, grade_choice, show_choices

# The formula questions' checks load at first use (PEP 562): only the assignments' function questions need
# them, and `import rfmaps` stays as fast as before the package was split.
_FORMULAS = ("check_conv_size_function", "grade_conv_size_function", "check_rf_function", "grade_rf_function",
             "check_transposed_size_function", "grade_transposed_size_function", "grade_by_hand", "packages_used",
             "check_feature_map_function", "grade_feature_map_function")


def __getattr__(name: str):
    if name in _FORMULAS:
        from . import formulas

        return getattr(formulas, name)
    raise AttributeError(f"module 'rfmaps.check' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_FORMULAS))


__all__ = ["FEEDBACK_POLICIES", "feedback_policy", "variant", "variant_layer", "variant_stack", "student", "hub_user",
           "graded_student", "check_output_size", "check_feature_maps", "check_rf_sizes", "check_region",
           "check_design", "count_parameters", "choice_letters", "show_choices", "check_choice",
           "grade_choice", "growing_variant", "variant_transposed", "variant_growing_stack",
           "check_transposed_size", "check_projective_field", "check_parameter_count", "check_decoder",
           "RF_INPUT", "PF_INPUT", "DECODER_INPUT", "DECODER_CHANNELS", *_FORMULAS]
