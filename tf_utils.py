"""Drop-in replacement for the course's ``tf_utils.py``, running on TensorFlow 2.x.

Same names, arguments and results as the course helper; the work is done by the
`signs_model` package (imported here, which also switches TensorFlow to TF1
graph mode). ``load_dataset`` reads ``datasets/`` by default, like the course,
or ``$SIGNS_DATA_DIR``, or the folder given as its argument.
"""
from signs_model.data import convert_to_one_hot, load_dataset, random_mini_batches
from signs_model.predict import forward_propagation_for_predict, predict

__all__ = ["load_dataset", "random_mini_batches", "convert_to_one_hot", "predict",
           "forward_propagation_for_predict"]
