/** Per-channel statistics that map pixel values in [0, 1] to `(x - mean[c]) / std[c]`. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * In-memory image classification data: images are NHWC float32 after normalisation,
 * labels are class indices. Both splits of a data set share shape and class count.
 */
export interface ImageSet {
  /** count * height * width * channels values, NHWC, normalised. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  /**
   * The statistics already applied to `images`. Absent means the values are plain [0, 1]
   * pixels (for sets built by hand, e.g. synthetic test data). The loaders always set it.
   */
  normalization?: Normalization;
}

export type DatasetLayout = 'idx' | 'cifar10-binary' | 'cifar100-binary' | 'image-folder';

export interface Dataset {
  /** Directory the data set was read from. */
  path: string;
  layout: DatasetLayout;
  /**
   * Class names, one per class index. Where the layout carries them (image folders, CIFAR
   * meta files, an optional `classes.txt` next to IDX files) these are those names;
   * otherwise the class indices as strings ("0", "1", ...).
   */
  classNames: string[];
  train: ImageSet;
  test: ImageSet;
  /** Per-channel mean and std used for normalisation (computed on the train split). */
  normalization: Normalization;
}

/** Height, width, channels (1 = grayscale, 3 = RGB). */
export type InputShape = [number, number, number];

export interface LoadDatasetOptions {
  /**
   * Shape every image is brought to. Image folders are resized by sharp; IDX and CIFAR images
   * are resized bilinearly and converted between grayscale and RGB when it differs from
   * their native shape. Default: the native shape (for image folders, the first training
   * image's size and colour).
   */
  inputShape?: InputShape;
  /**
   * Keep at most this many training / test images: a deterministic, class-balanced prefix
   * (the first images of each class in file order, equal counts per class as far as each
   * class has them, leftover places to the lowest class indices; file order is kept).
   */
  maxTrain?: number;
  maxTest?: number;
  /**
   * The model the data must fit (issue 16): the set's channels and classes must equal the
   * model's, and IDX/CIFAR images must already have its height and width (image folders are
   * resized to it); otherwise DATASET_MISMATCH says how they differ. `inputShape` defaults
   * to the model's.
   */
  fit?: { inputShape: InputShape; numClasses: number };
  /**
   * Normalise with these statistics instead of the train split's own (e.g. a second data
   * set fed to the victim's model). `Dataset.normalization` then holds these.
   */
  normalization?: Normalization;
}

/** Raw pixels of one split as read from disk, before scaling: NHWC uint8. */
export interface RawSplit {
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}
