# Sourced by scripts/campaign_stage.sh (CPU stages) and scripts/gpu_stage.sh (GPU stages): the
# campaign's training recipe, one copy, so both kinds of stage train the same model the same way.
# Each script adds its own checkpoint/sample intervals, threads and device.
#
# An arm started from a stage hand-off or a training state takes that file's own settings
# (`--recipe`, session 38: stages 40-42 had retyped the recipe without `--lr 0.0005`, 33-42 without `--ca-gan 1`);
# CAMPAIGN_RECIPE (stage 12's options) only starts an arm from plain weights.
CAMPAIGN_RECIPE=(--preset demo128 --perceptual 1 --style-stats 2 --tcp-every 4 --reuse-fakes)

arm_recipe() {  # ARM_RECIPE=(the options an arm started from file $1 trains with)
    if "${PY:-python3}" -c "import sys
from tcp_core.networks.checkpoint import read_metadata
sys.exit(0 if read_metadata(sys.argv[1]).get('train_config') else 1)" "$1" 2>/dev/null; then
        ARM_RECIPE=(--recipe "$1")
    else
        ARM_RECIPE=("${CAMPAIGN_RECIPE[@]}")
    fi
}

newest_state() {  # the newest complete training state in run folder $1 (empty when none)
    ls "$1/checkpoints"/state-*.safetensors 2>/dev/null | sort | tail -n 1
}
