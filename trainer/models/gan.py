"""The reference's unfinished GAN (Abdollahi et al. 2021): MUNet as generator, a patch discriminator on
image + mask, trained with the adversarial loss plus lambda times the segmentation loss.

Decisions (quoted in the README):

* **One Keras model** (`SegmentationGAN`) holds both networks and both optimizers, so fit's stages,
  BackupAndRestore (weights and both optimizers' state in one backup), TensorBoard, early stopping on
  val mIoU and the best weights work as for any network; what is saved as best and exported is the
  generator alone (`network_of`), a plain MUNet the plugin loads.
* **Training step**: the discriminator learns to tell (image, true one-hot mask) from (image, the
  generator's class probabilities), patch by patch (binary cross-entropy); the generator minimises the
  segmentation loss times lambda plus the adversarial loss of fooling it. Validation scores the
  generator alone with the segmentation loss, as `evaluate` will.
* **lambda** (`train.gan_lambda`, default 10 in the GAN configs): the paper does not state it. Per
  pixel, cross-entropy starts near ln 5 = 1.6 and falls below 0.1, while the adversarial term stays
  near ln 2 = 0.69 when the two networks are balanced; with lambda 10 the segmentation term leads
  throughout, so the adversarial term sharpens outlines instead of pulling the generator towards
  whatever fools the discriminator (an all-background mask fools a weak one: the reference's
  "completely wrong results"). The collapse is watched for: `foreground_ratio`, the generator's
  non-background pixels over the truth's, is logged every epoch and a value under 2 % is reported.
"""
from __future__ import annotations

import sys

import keras
from keras import layers

from landcover_qgis_plugin.core.networks.blocks import scaled_channels
from landcover_qgis_plugin.core.networks.config import NetworkConfig

DISCRIMINATOR = (32, 64, 128, 256, 512)
COLLAPSED_BELOW = 0.02   # foreground_ratio under which the generator is reported collapsed


def build_discriminator(config: NetworkConfig) -> keras.Model:
    """The patch discriminator: image and mask (one channel per class) side by side, 4x4 stride-2
    convolutions (BatchNorm from the second, LeakyReLU 0.2), one sigmoid score per patch."""
    size = config.input_size
    image = keras.Input((size, size, 3), name="image")
    mask = keras.Input((size, size, config.num_classes), name="mask")
    x = layers.Concatenate(name="image_and_mask")([image, mask])
    for level, channels in enumerate(DISCRIMINATOR):
        x = layers.Conv2D(scaled_channels(channels, config.width), 4, strides=2, padding="same",
                          use_bias=level == 0, name=f"critic{level + 1}_conv")(x)
        if level:
            x = layers.BatchNormalization(name=f"critic{level + 1}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"critic{level + 1}_lrelu")(x)
    scores = layers.Conv2D(1, 4, padding="same", activation="sigmoid", dtype="float32", name="patch_scores")(x)
    return keras.Model([image, mask], scores, name="patch_discriminator")


class SegmentationGAN(keras.Model):
    """Generator and discriminator trained together (see the module docstring); calling it segments."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, gan_lambda: float, **kwargs):
        super().__init__(name="munet_gan", **kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.gan_lambda = float(gan_lambda)
        self.num_classes = generator.output.shape[-1]
        self.discriminator_optimizer = None
        self._adversarial = keras.losses.BinaryCrossentropy()
        self._trackers = {name: keras.metrics.Mean(name=name) for name in
                          ("discriminator_loss", "adversarial_loss", "foreground_ratio")}
        self.built = True   # both networks are built functional models: BackupAndRestore can load into it at once

    def call(self, images, training=False):
        return self.generator(images, training=training)

    def compile(self, optimizer, discriminator_optimizer, **kwargs) -> None:
        super().compile(optimizer=optimizer, **kwargs)
        self.discriminator_optimizer = discriminator_optimizer
        # Built now, on their own networks' variables: BackupAndRestore can then restore both before the
        # first step, and the generator's optimizer holds no state for the discriminator.
        optimizer.build(self.generator.trainable_variables)
        discriminator_optimizer.build(self.discriminator.trainable_variables)

    def train_step(self, data):
        import tensorflow as tf

        images, masks = data[0], data[1]
        sample_weight = data[2] if len(data) > 2 else None
        truth = tf.one_hot(tf.cast(masks, tf.int32), self.num_classes)
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            predicted = self.generator(images, training=True)
            real = self.discriminator([images, truth], training=True)
            fake = self.discriminator([images, predicted], training=True)
            discriminator_loss = self._adversarial(tf.ones_like(real), real) + \
                self._adversarial(tf.zeros_like(fake), fake)
            adversarial_loss = self._adversarial(tf.ones_like(fake), fake)
            segmentation_loss = self.compute_loss(x=images, y=masks, y_pred=predicted, sample_weight=sample_weight)
            generator_loss = self.gan_lambda * segmentation_loss + adversarial_loss
        variables = self.generator.trainable_variables
        self.optimizer.apply(generator_tape.gradient(generator_loss, variables), variables)
        variables = self.discriminator.trainable_variables
        self.discriminator_optimizer.apply(discriminator_tape.gradient(discriminator_loss, variables), variables)
        predicted_foreground = tf.reduce_sum(tf.cast(tf.argmax(predicted, axis=-1) > 0, tf.float32))
        true_foreground = tf.reduce_sum(tf.cast(masks > 0, tf.float32))
        self._track_loss(segmentation_loss)   # the logged loss is the segmentation loss, as in validation
        self._trackers["discriminator_loss"].update_state(discriminator_loss)
        self._trackers["adversarial_loss"].update_state(adversarial_loss)
        self._trackers["foreground_ratio"].update_state(predicted_foreground / tf.maximum(true_foreground, 1.0))
        return self.compute_metrics(images, masks, predicted, sample_weight)

    def _track_loss(self, loss) -> None:
        """Keras' own loss tracker, which a custom step updates itself."""
        for metric in super().metrics:
            if metric.name == "loss":
                metric.update_state(loss)

    def test_step(self, data):
        """The generator alone, scored with the segmentation loss and the compiled metrics."""
        images, masks = data[0], data[1]
        sample_weight = data[2] if len(data) > 2 else None
        predicted = self.generator(images, training=False)
        self._track_loss(self.compute_loss(x=images, y=masks, y_pred=predicted, sample_weight=sample_weight,
                                           training=False))
        logs = self.compute_metrics(images, masks, predicted, sample_weight)
        return {name: value for name, value in logs.items() if name not in self._trackers}


def network_of(model: keras.Model) -> keras.Model:
    """The network a run keeps as its best weights and exports: a GAN's generator, else the model."""
    return model.generator if isinstance(model, SegmentationGAN) else model


class CollapseWatch(keras.callbacks.Callback):
    """Says so, every epoch it happens, when the generator draws almost no foreground (see above)."""

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        ratio = (logs or {}).get("foreground_ratio")
        if ratio is not None and ratio < COLLAPSED_BELOW:
            print(f"\nGAN collapse: in epoch {epoch + 1} the generator drew {ratio:.1%} of the truth's "
                  "non-background pixels (collapsing towards all background, as the reference's GAN did); "
                  "raise train.gan_lambda or lower the learning rate.", file=sys.stderr)
