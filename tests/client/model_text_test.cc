#include "client/cli/model_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

using ::testing::HasSubstr;

v1::ModelInfo TrainedModel() {
  v1::ModelInfo info;
  info.set_name("fmnist");
  for (int64_t size : {784, 256, 10}) info.add_layer_sizes(size);
  // The server fills every default in.
  info.set_task(v1::TASK_CLASSIFICATION);
  info.set_normalization(v1::NORMALIZATION_PRE_ACTIVATION);
  info.set_activation(v1::ACTIVATION_RELU);
  info.set_version(11);
  info.set_parameter_count(203530);
  info.set_training_state(v1::TRAINING_STATE_TRAINED);
  info.set_batch_norm_momentum(0.1);
  info.set_batch_norm_epsilon(1e-5);
  v1::TrainProgress* last = info.mutable_last_progress();
  last->set_epoch(10);
  last->set_epochs(10);
  last->set_loss(0.25);
  last->set_accuracy(0.91);
  last->set_has_validation(true);
  last->set_validation_accuracy(0.885);
  return info;
}

TEST(ModelTextTest, ModelInfoShowsArchitectureVersionAndLastFigures) {
  const std::string text = FormatModelInfo(TrainedModel());
  EXPECT_THAT(text,
              HasSubstr("model 'fmnist': layers 784-256-10, "
                        "classification, pre_activation batch norm, relu"));
  EXPECT_THAT(text, HasSubstr("version 11, 203530 parameters, trained"));
  EXPECT_THAT(text, HasSubstr("validation accuracy 0.8850"));
}

TEST(ModelTextTest, UnspecifiedTaskReadsAsTheDefaultClassification) {
  v1::ModelInfo info = TrainedModel();
  info.clear_task();
  EXPECT_THAT(FormatModelInfo(info), HasSubstr("accuracy 0.9100"));
  info.set_task(v1::TASK_REGRESSION);
  EXPECT_THAT(FormatModelInfo(info), ::testing::Not(HasSubstr("accuracy")));
}

TEST(ModelTextTest, TableHasOneLinePerModel) {
  const v1::ModelInfo models[] = {TrainedModel(), TrainedModel()};
  const std::string table = FormatModelTable(models);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 3);
  EXPECT_THAT(table, HasSubstr("NAME"));
  EXPECT_THAT(table, HasSubstr("fmnist               784-256-10"));
  EXPECT_EQ(FormatModelTable({}), "no models\n");
}

TEST(ModelTextTest, ParametersShowShapesNormsAndRanges) {
  client::ModelParameters parameters;
  parameters.name = "m";
  parameters.version = 2;
  parameters.layer_sizes = {2, 2};
  client::LayerParameterData layer;
  layer.weight = {{2, 2}, {3, 0, 0, -4}};
  layer.gamma = {{2}, {0.5f, 1.5f}};
  parameters.layers.push_back(layer);
  const std::string text = FormatParameters(parameters);
  EXPECT_THAT(text,
              HasSubstr("model 'm' version 2, layers 2-2\nlayer 1: 2 -> 2\n"));
  EXPECT_THAT(text, HasSubstr("weight        [2, 2]       L2 5.0000     min "
                              "-4.0000    max 3.0000"));
  EXPECT_THAT(text, HasSubstr("gamma         [2]          L2 1.5811     min "
                              "0.5000     max 1.5000"));
  EXPECT_THAT(text, HasSubstr("bias          absent"));
}

}  // namespace
}  // namespace bnmlp::cli
