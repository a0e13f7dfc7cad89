"""The order of the gallery: the course's steps, then scaling out."""

ORDER = [
    "plot_course_line.py",  # the training loop
    "plot_coefficient_path.py",  # the learning rate
    "plot_losses.py",  # choosing a loss
    "plot_penalties.py",
    "plot_optimizers.py",
    "plot_grid_search_learning_rate.py",
    "plot_early_stopping.py",  # the stop criterion
    "plot_digits.py",  # evaluation
    "plot_out_of_core.py",  # streams
    "plot_dask_incremental.py",
]


def example_order(filename):
    """Sort key of an example's file name: its place in ORDER, new examples last."""
    return (ORDER.index(filename), "") if filename in ORDER else (len(ORDER), filename)
